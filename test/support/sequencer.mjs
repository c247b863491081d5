import Sequencer from '@jest/test-sequencer';

/**
 * Jest's own order (slowest known first, else largest file first), except
 * that files which mostly wait go first: on a fresh clone Jest knows no
 * durations, and the 11-minute token-expiry test, started last, kept the
 * whole run waiting on it alone (CI: about 8 minutes of one idle worker).
 */
const WAITERS = [/token-expiry\.spec\.ts$/];

export default class WaitersFirst extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    const waits = (test) => WAITERS.some((pattern) => pattern.test(test.path));
    return [...ordered.filter(waits), ...ordered.filter((test) => !waits(test))];
  }
}
