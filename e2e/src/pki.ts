/**
 * Test PKI for the e2e scenarios: an appliance CA and certificates written to a directory,
 * and loading them back as handshake credentials. Built on @edgebox/crypto's certificates
 * API once it is exported; until then certificate mode reports E2E_PKI_UNAVAILABLE.
 */
import type { HandshakeCertificateCredentials } from '@edgebox/crypto';

/** Files of one peer's credentials. */
export interface CredentialFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Raised while @edgebox/crypto exports no certificates API. */
export class PkiUnavailableError extends Error {
  readonly code = 'E2E_PKI_UNAVAILABLE';
}

/**
 * Loads certificate-mode handshake credentials from files.
 *
 * @example
 * const creds = loadCertificateCredentials({ caFile, certFile, keyFile });
 */
export function loadCertificateCredentials(files: CredentialFiles): HandshakeCertificateCredentials {
  throw new PkiUnavailableError(`certificate mode unavailable: @edgebox/crypto exports no certificates API yet (asked for ${files.certFile})`);
}
