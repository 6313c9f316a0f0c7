/**
 * @edgebox/e2e helpers shared by scenarios: the sealed probe frame, the test PKI and the
 * JSON-lines reader for peer processes. The scenarios themselves live in test/.
 */
export * from './sealed-frame.js';
export * from './json-lines.js';
export * from './pki.js';
