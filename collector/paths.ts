// Where the collector finds the dashboard and the charting library it serves.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../proto/package-info.js';

export const dashboardDir = join(packageRoot, 'dashboard');
export const uplotDistDir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
