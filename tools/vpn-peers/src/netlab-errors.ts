/**
 * Maps netlab's command errors onto ours where the meaning is the same (a measurement that
 * timed out, an abort, a missing program) so callers match one set of codes.
 */
import { isNetlabError } from '@edgebox/netlab';
import { VpnPeersError } from './errors.js';

/**
 * Our error for a failure of `lab.exec` while doing `what`; anything else is returned as is.
 *
 * @example catch (err) { throw fromNetlab(err, 'iperf3 client'); }
 */
export function fromNetlab(err: unknown, what: string): unknown {
  if (isNetlabError(err, 'NETLAB_COMMAND_TIMEOUT')) {
    return new VpnPeersError('VPN_PEERS_TIMEOUT', `${what}: ${err.message}`, { cause: err, details: err.details });
  }
  if (isNetlabError(err, 'NETLAB_ABORTED')) return new VpnPeersError('VPN_PEERS_ABORTED', `${what}: aborted`, { cause: err });
  if (isNetlabError(err, 'NETLAB_TOOL_MISSING')) return new VpnPeersError('VPN_PEERS_TOOL_MISSING', `${what}: ${err.message}`, { cause: err, details: err.details });
  return err;
}
