// The README's error-code table lists exactly the codes errors.ts exports.
import { describeReadmeCodes } from '@edgebox/runtime/testing';
import { SUPERVISOR_ERROR_CODES } from '../src/errors.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: SUPERVISOR_ERROR_CODES });
