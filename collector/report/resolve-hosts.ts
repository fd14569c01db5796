// `assay report --host X`: X may be an agent id or a hostname (people know their machines by
// name). An id wins; a hostname must name exactly one host; otherwise the error lists what is
// known, so the user can pick without another command. A name that is one agent's id and
// another's hostname is ambiguous too.
import type { Store } from '../store/store.js';

export async function resolveHostIds(store: Store, wanted: readonly string[]): Promise<string[]> {
  const hosts = await store.listHosts();
  const known = (): string => (hosts.length === 0 ? 'no hosts are known yet' : `known hosts: ${hosts.map((h) => `${h.hostname} (${h.id})`).join(', ')}`);
  return wanted.map((w) => {
    const byName = hosts.filter((h) => h.hostname === w);
    if (hosts.some((h) => h.id === w)) {
      // Agents choose their own ids: one enrolled as "gpu-07" must not silently take the report
      // meant for the host named gpu-07.
      const others = byName.filter((h) => h.id !== w);
      if (others.length) throw new Error(`${w} is the id of one agent and the hostname of ${others.map((h) => h.id).join(', ')}: pass the id of the one you mean`);
      return w;
    }
    if (byName.length === 1) return byName[0]!.id;
    if (byName.length > 1) throw new Error(`hostname ${w} names ${byName.length} agents (${byName.map((h) => h.id).join(', ')}): pass an agent id`);
    throw new Error(`unknown host ${w}: ${known()}`);
  });
}
