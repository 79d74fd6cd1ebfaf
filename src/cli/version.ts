import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package version, read once from package.json (dist/src/cli → repo root). */
export const version: string = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
