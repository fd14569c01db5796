// Copies what tsc does not emit into dist/: the generated protobuf module, the rules data and the
// agent's exe markers; and writes the dashboard's class list and colours from their one source
// (collector/classes.ts).
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(join(dist, 'proto', 'gen'), { recursive: true });
cpSync(join(root, 'proto', 'gen'), join(dist, 'proto', 'gen'), { recursive: true });
cpSync(join(root, 'collector', 'engine', 'rules'), join(dist, 'collector', 'engine', 'rules'), {
  recursive: true,
  filter: (src) => !src.endsWith('.ts'),
});
cpSync(join(root, 'agent', 'probes', 'exe-markers.yaml'), join(dist, 'agent', 'probes', 'exe-markers.yaml'));

const { writeDashboardClasses } = await import(pathToFileURL(join(dist, 'collector', 'classes.js')).href);
writeDashboardClasses(join(root, 'dashboard', 'generated'));
