/**
 * The files `edgebox-p2p add` and `block` change for a node that may be running:
 *
 *   add    peer ─▶ validate (peer id, multiaddrs, metadata: @edgebox/peers) ─▶ address book file
 *          (the book's own atomic write: temp file, fsync, rename, backup kept)
 *   block  rule ─▶ validate (accessRuleSchema) ─▶ the config's access.rules ─▶ whole config
 *          validated (P2pConfigSchema) ─▶ temp file + rename (atomic) ─▶ reload applies it
 *
 * A running node applies both on reload (SIGHUP: `--pid`, or systemctl reload): reload merges
 * the book file's peers into the running book and applies access rules, removing config rules
 * that are gone. YAML configs are edited as documents (comments and order kept); JSON stays
 * JSON; a config whose `p2p` key holds the section (the appliance file) is edited there.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { parseDocument, isMap, isSeq, type Document } from 'yaml';
import { accessRuleSchema, createAddressBook, type PeerInit, type PeerRecord } from '@edgebox/peers';
import { loadConfig } from '@edgebox/runtime';
import { P2pConfigSchema } from './config.js';
import { invalidArgument, P2pError } from './errors.js';

/**
 * Add (or merge into) `peer` in the address book file at `path` and write it atomically.
 * Invalid input is refused before the file changes (P2P_INVALID_ARGUMENT naming the field).
 *
 * @example await addPeerToBookFile('/var/lib/edgebox/p2p/peers.json', { id, addresses: ['/ip4/192.0.2.7/tcp/4001'], autoConnect: true });
 */
export async function addPeerToBookFile(path: string, peer: PeerInit): Promise<{ record: PeerRecord; created: boolean; problems: string[] }> {
  const book = createAddressBook({ path, autoSaveDelayMs: false });
  const report = await book.load();
  const created = !book.has(peer.id);
  let record: PeerRecord;
  try {
    record = book.add(peer);
  } catch (err) {
    throw new P2pError('P2P_INVALID_ARGUMENT', `peer not added: ${(err as Error).message}`, { cause: err, details: { peer: peer.id } });
  }
  await book.save();
  await book.close();
  return { record, created, problems: report.problems.map((p) => `${p.kind}: ${p.message}`) };
}

/** What `block` changes. */
export interface BlockEdit {
  peer?: string;
  cidr?: string;
  reason?: string;
  /** Remove the block rule for `peer` / `cidr` instead of adding it. */
  remove?: boolean;
}

type Format = 'yaml' | 'json';

function formatOf(file: string): Format {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.toml$/i.test(file)) throw invalidArgument('config', file, 'a YAML or JSON file (block does not edit TOML)');
  return 'yaml';
}

/**
 * Add or remove a block rule in the config file's `access.rules`; the result is validated as a
 * whole before it replaces the file (temp + rename). Returns whether the file changed.
 *
 * @example await editBlockRule('/etc/edgebox/p2p.yaml', { peer: '12D3KooW...', reason: 'abuse' });
 */
export async function editBlockRule(file: string, edit: BlockEdit): Promise<{ changed: boolean; rules: number }> {
  const format = formatOf(file);
  if ((edit.peer === undefined) === (edit.cidr === undefined)) throw invalidArgument('block', 'both or neither', 'exactly one of --peer or --cidr');
  const rule = { ...(edit.peer !== undefined ? { peer: edit.peer } : { cidr: edit.cidr }), action: 'block' as const, ...(edit.reason !== undefined ? { reason: edit.reason } : {}) };
  const checked = accessRuleSchema.safeParse(rule);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw invalidArgument(issue.path.join('.') || 'rule', edit.peer ?? edit.cidr, issue.message);
  }
  const text = await readFile(file, 'utf8');
  const doc: Document = format === 'yaml' ? parseDocument(text) : parseDocument(text, { version: '1.2' });
  if (doc.errors.length > 0) throw invalidArgument('config', file, `parseable ${format}: ${doc.errors[0]!.message}`);
  const root = doc.contents;
  const section: string[] = isMap(root) && root.has('p2p') ? ['p2p'] : [];
  const rulesPath = [...section, 'access', 'rules'];
  const existing = doc.getIn(rulesPath);
  const rules: Array<Record<string, unknown>> = isSeq(existing) ? (existing.toJSON() as Array<Record<string, unknown>>) : [];
  const same = (r: Record<string, unknown>): boolean => (edit.peer !== undefined ? r['peer'] === edit.peer : r['cidr'] === edit.cidr);
  const before = rules.length;
  let next: Array<Record<string, unknown>>;
  if (edit.remove === true) next = rules.filter((r) => !(same(r) && r['action'] === 'block'));
  else next = [...rules.filter((r) => !same(r)), rule];
  const changed = edit.remove === true ? next.length !== before : true;
  if (!changed) return { changed, rules: next.length };
  if (isSeq(existing) && edit.remove !== true && !rules.some(same)) existing.add(doc.createNode(rule));
  else doc.setIn(rulesPath, doc.createNode(next));
  const out = format === 'json' ? `${JSON.stringify(doc.toJSON(), null, 2)}\n` : doc.toString();
  // The whole file must still be a valid p2p config: never leave a node a config it refuses.
  const json = doc.toJSON() as Record<string, unknown>;
  await loadConfig({ schema: P2pConfigSchema, value: section.length > 0 ? json['p2p'] : json, section: 'p2p', env: {} });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, out, { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { changed, rules: next.length };
}
