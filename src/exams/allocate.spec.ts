import type { Domain } from '../question-bank/question.schema.js';
import { allocate } from './exams.service.js';

const pools = (sizes: Partial<Record<Domain, number>>) =>
  new Map(Object.entries(sizes).map(([d, n]) => [d as Domain, Array.from({ length: n! })]));

describe('allocate', () => {
  it('splits by the curriculum weights with largest remainders', () => {
    const quotas = allocate(
      17,
      {
        troubleshooting: 30,
        'cluster-architecture': 25,
        'services-networking': 20,
        'workloads-scheduling': 15,
        storage: 10,
      },
      pools({
        troubleshooting: 20,
        'cluster-architecture': 20,
        'services-networking': 20,
        'workloads-scheduling': 20,
        storage: 20,
      }),
    );
    // 17 × (.30 .25 .20 .15 .10) = 5.1 4.25 3.4 2.55 1.7: floors 5 4 3 2 1, the two largest remainders (storage, workloads) get one more.
    expect(quotas).toEqual({
      troubleshooting: 5,
      'cluster-architecture': 4,
      'services-networking': 3,
      'workloads-scheduling': 3,
      storage: 2,
    });
    expect(Object.values(quotas).reduce((a, b) => a! + b!, 0)).toBe(17);
  });

  it('moves what a small domain cannot give to the others', () => {
    const quotas = allocate(
      6,
      { troubleshooting: 50, storage: 50 },
      pools({ troubleshooting: 10, storage: 1 }),
    );
    expect(quotas).toEqual({ troubleshooting: 5, storage: 1 });
  });

  it('ignores domains with no weight or no questions', () => {
    expect(
      allocate(
        2,
        { troubleshooting: 0, storage: 1, 'services-networking': 5 },
        pools({ troubleshooting: 5, storage: 5 }),
      ),
    ).toEqual({ storage: 2 });
  });
});
