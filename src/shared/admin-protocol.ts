/**
 * What marks an answer as the ngate admin API's: a header on every answer.
 * The CLI refuses anything without it (a traffic port, another server that
 * answers 200), so it never reports success it did not get.
 */
export const ADMIN_HEADER = 'x-ngate-admin';
export const ADMIN_HEADER_VALUE = '1';
