// `assay report --host X`: X may be an agent id or a hostname (people know their machines by
// name). An id wins; a hostname must name exactly one host; otherwise the error lists what is
// known, so the user can pick without another command.
import type { Store } from '../store/store.js';

export async function resolveHostIds(store: Store, wanted: readonly string[]): Promise<string[]> {
  const hosts = await store.listHosts();
  const known = (): string => (hosts.length === 0 ? 'no hosts are known yet' : `known hosts: ${hosts.map((h) => `${h.hostname} (${h.id})`).join(', ')}`);
  return wanted.map((w) => {
    if (hosts.some((h) => h.id === w)) return w;
    const byName = hosts.filter((h) => h.hostname === w);
    if (byName.length === 1) return byName[0]!.id;
    if (byName.length > 1) throw new Error(`hostname ${w} names ${byName.length} agents (${byName.map((h) => h.id).join(', ')}): pass an agent id`);
    throw new Error(`unknown host ${w}: ${known()}`);
  });
}
