/**
 * The hash an unknown user name is checked against, so that a wrong user name
 * costs what a wrong password costs and answer times do not tell which names
 * exist. bcrypt's cost is in the hash: the dummy takes the highest cost among
 * the configured bcrypt hashes (salt and digest are fixed; no password
 * matches them). Without bcrypt users, a {SHA} dummy.
 */
export function unknownUserHash(hashes: Iterable<string>): string {
  let cost = -1;
  for (const hash of hashes) {
    if (hash.startsWith('$2')) cost = Math.max(cost, Number(hash.slice(4, 6)));
  }
  if (cost < 0) return DUMMY_SHA;
  return `$2b$${String(cost).padStart(2, '0')}$${DUMMY_BCRYPT_TAIL}`;
}

/** bcrypt salt (22 characters) and digest (31) of the dummy. */
const DUMMY_BCRYPT_TAIL = 'CwTycUXWue0Thq9StjUM0uJ8.fFf6Zlp7Bx2xHIkFqTh1sEtOiRLC';
/** SHA-1 of 20 random bytes: no password anyone sends (and never accepted for an unknown user anyway). */
const DUMMY_SHA = '{SHA}Q1Yx3myMLf8lGti8FY5EhbKdtc0=';
