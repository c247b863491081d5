import { describe, expect, it } from '@jest/globals';
import { isShort } from './controller-wake.js';

describe('isShort', () => {
  it('is true for a workload with fewer pods than it wants, false once it has them', () => {
    const rs = (want: number | undefined, have: number | undefined) => ({
      spec: want === undefined ? {} : { replicas: want },
      status: have === undefined ? {} : { replicas: have },
    });
    expect(isShort('ReplicaSet', rs(3, 0))).toBe(true);
    expect(isShort('ReplicaSet', rs(3, undefined))).toBe(true);
    expect(isShort('ReplicaSet', rs(undefined, 0))).toBe(true); // replicas default to 1
    expect(isShort('ReplicaSet', rs(3, 3))).toBe(false);
    expect(isShort('StatefulSet', rs(0, 0))).toBe(false); // scaled to zero on purpose
    expect(
      isShort('DaemonSet', { status: { desiredNumberScheduled: 2, currentNumberScheduled: 1 } }),
    ).toBe(true);
    expect(
      isShort('DaemonSet', { status: { desiredNumberScheduled: 2, currentNumberScheduled: 2 } }),
    ).toBe(false);
  });
});
