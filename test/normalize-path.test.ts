import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invalidEscape, normalizePath } from '../src/dataplane/router/normalize-path';

/** Input → normalised path (RFC 3986 §6.2.2 plus merged slashes). */
const CASES: readonly (readonly [string, string])[] = [
  // dot segments (§5.2.4)
  ['/.', '/'],
  ['/..', '/'],
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/../', '/a/'],
  ['/../x', '/x'],
  ['/../../x/../../y', '/y'],
  ['/x/../admin/users', '/admin/users'],
  ['/a/..', '/'],
  ['/a/.b/..c/...', '/a/.b/..c/...'],
  ['/.well-known/acme', '/.well-known/acme'],
  // percent-encoded unreserved characters are decoded, then dot segments removed
  ['/a/%2e%2E/b', '/b'],
  ['/x/%2e%2e/admin/users', '/admin/users'],
  ['/%2E/a', '/a'],
  ['/%61dmin/users', '/admin/users'],
  ['/%7euser', '/~user'],
  ['/%41%5a%30%39%2D%5F%2e%7E', '/AZ09-_.~'],
  ['/%41/%2e%2E/%7e', '/~'],
  // other escapes stay encoded, their hex uppercased
  ['/a%2fb', '/a%2Fb'],
  ['/a/..%2f..%2fetc', '/a/..%2F..%2Fetc'],
  ['/%2e%2e%2fsecret', '/..%2Fsecret'],
  ['/a%5cb', '/a%5Cb'],
  ['/a%00b', '/a%00b'],
  ['/a%20b', '/a%20b'],
  ['/%252e%252e/x', '/%252e%252e/x'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  // a raw backslash is sent encoded (a WHATWG URL parser upstream would read it as a slash)
  ['/x/..\\admin', '/x/..%5Cadmin'],
  ['/a\\b', '/a%5Cb'],
  ['/a\\b/../c', '/c'],
  // runs of slashes are merged (nginx merge_slashes)
  ['//a/../b', '/b'],
  ['//admin', '/admin'],
  ['/a//b///c', '/a/b/c'],
  ['/a//', '/a/'],
  ['//', '/'],
  // unchanged
  ['/', '/'],
  ['/a/b/c', '/a/b/c'],
  ['/a/b/', '/a/b/'],
  ['*', '*'],
];

/** Paths with a `%` not followed by two hex digits, and the escape the 400's detail names. */
const INVALID: readonly (readonly [string, string])[] = [
  ['/%zz', '%zz'],
  ['/a%zz', '%zz'],
  ['/%', '%'],
  ['/a%', '%'],
  ['/a%2', '%2'],
  ['/a%4/b', '%4/'],
  ['/%g1/../b', '%g1'],
  ['/%%47', '%%4'],
  ['/%1g', '%1g'],
  ['/ok%41/then%2', '%2'],
  ['/%2e%2e/%zz/x', '%zz'],
  // `%%32e` decoded once is `%2e` and twice `.`: refused before anything is decoded
  ['/%%32e%%32e/admin', '%%3'],
  ['/%3%32', '%3%'],
  ['/%\\', '%\\'],
  ['/a\\b%', '%'],
  ['//a/../%x', '%x'],
];

describe('normalizePath', () => {
  for (const [input, escape] of INVALID) {
    it(`${input} → null (invalid escape ${escape})`, () => {
      assert.equal(normalizePath(input), null);
      assert.equal(invalidEscape(input), escape);
    });
  }

  it('finds no invalid escape in a valid path', () => {
    for (const [input] of CASES) assert.equal(invalidEscape(input), '', input);
  });

  for (const [input, expected] of CASES) {
    it(`${input} → ${expected}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  it('is idempotent', () => {
    for (const [, expected] of CASES) assert.equal(normalizePath(expected), expected, expected);
  });

  it('returns the very same string for a path with nothing to normalise', () => {
    const p = ['/api', 'v1', 'users'].join('/');
    assert.equal(normalizePath(p), p);
    assert.ok(Object.is(normalizePath(p), p));
  });
});
