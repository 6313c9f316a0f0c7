// Root gate of every e2e file (see @edgebox/netlab/testing).
import { rootGate } from '@edgebox/netlab/testing';

export const { root, reportNotRoot } = rootGate('e2e');
