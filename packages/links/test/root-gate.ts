// Root gate for the tests that build namespaces, TUN devices and routes (see @edgebox/netlab/testing).
import { rootGate } from '@edgebox/netlab/testing';

export const { root, reportNotRoot } = rootGate('links');
