// A relying party built on the npm package jose: verifies an attestd token
// with nothing but the service's JWKS URL, as a third-party verifier would.
//
// Usage: node verify_token.mjs --jwks URL --issuer ISS --subject SUB
//            [--audience AUD] [--clock-tolerance SECONDS] TOKEN_FILE
//
// Prints one JSON object on stdout: {"valid": true, "header": {...},
// "claims": {...}} or {"valid": false, "error": {"name", "code", "message",
// "claim"}}, where code is jose's error code (such as ERR_JWT_EXPIRED) and
// claim names the failed claim when jose reports one. Exit status: 0 valid,
// 1 invalid or the JWKS cannot be fetched (the error's code distinguishes them),
// 2 usage error or unreadable token file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { createRemoteJWKSet, jwtVerify } from 'jose';

// The algorithms attestd signs with. jose rejects every other one, "none" included.
const ALGORITHMS = ['ES256', 'RS256', 'PS384'];

function usageError(message) {
  process.stderr.write(`verify_token.mjs: ${message}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      jwks: { type: 'string' },
      issuer: { type: 'string' },
      subject: { type: 'string' },
      audience: { type: 'string' },
      'clock-tolerance': { type: 'string' },
    },
    allowPositionals: true,
  });
} catch (error) {
  usageError(error.message);
}
const { values, positionals } = parsed;
if (!values.jwks || !values.issuer || !values.subject || positionals.length !== 1) {
  usageError('--jwks URL, --issuer ISS, --subject SUB and one TOKEN_FILE are required');
}
const clockTolerance = Number(values['clock-tolerance'] ?? '0');
if (!Number.isInteger(clockTolerance) || clockTolerance < 0) {
  usageError(`--clock-tolerance "${values['clock-tolerance']}" is not a whole number of seconds`);
}

let token;
try {
  token = readFileSync(positionals[0], 'utf8').trim();
} catch (error) {
  usageError(`cannot read ${positionals[0]}: ${error.message}`);
}

const keySet = createRemoteJWKSet(new URL(values.jwks));
const options = {
  algorithms: ALGORITHMS,
  issuer: values.issuer,
  subject: values.subject,
  requiredClaims: ['exp', 'iat'],
  clockTolerance,
};
if (values.audience !== undefined) {
  options.audience = values.audience;
}

try {
  const { payload, protectedHeader } = await jwtVerify(token, keySet, options);
  process.stdout.write(`${JSON.stringify({ valid: true, header: protectedHeader, claims: payload })}\n`);
} catch (error) {
  const failure = {
    name: error.name,
    code: error.code ?? null,
    message: error.message,
    claim: error.claim ?? null,
  };
  process.stdout.write(`${JSON.stringify({ valid: false, error: failure })}\n`);
  process.exit(1);
}
