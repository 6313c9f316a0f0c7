// Root gate for the namespace tests (see @edgebox/netlab/testing).
import { rootGate } from '../src/testing.js';

export const { root, reportNotRoot } = rootGate('netlab');
export { pingStats } from '../src/testing.js';
