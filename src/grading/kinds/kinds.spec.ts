import { describe, expect, it } from '@jest/globals';
import { scoreRun } from '../score.js';
import { matchesFields, parseFieldSelector, SelectorError } from '../selectors.js';
import { normaliseAnswer } from './answer.js';
import { splitResource, subjectOf } from './can-i.js';
import { rolloutWaiting } from './rollout.js';

const workload = (spec: object, status: object, generation = 2) =>
  ({ metadata: { generation }, spec, status }) as Parameters<typeof rolloutWaiting>[1];

describe('rollout rules (as kubectl rollout status)', () => {
  it('Deployment: waits for the spec to be observed, new replicas, old ones to go, availability', () => {
    expect(rolloutWaiting('Deployment', workload({ replicas: 3 }, { observedGeneration: 1 }))).toBe(
      'waiting for the spec update to be observed',
    );
    expect(
      rolloutWaiting(
        'Deployment',
        workload({ replicas: 3 }, { observedGeneration: 2, updatedReplicas: 1 }),
      ),
    ).toBe('1 out of 3 new replicas have been updated');
    expect(
      rolloutWaiting(
        'Deployment',
        workload({ replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 5 }),
      ),
    ).toBe('2 old replicas are pending termination');
    expect(
      rolloutWaiting(
        'Deployment',
        workload(
          { replicas: 3 },
          { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 },
        ),
      ),
    ).toBe('1 of 3 updated replicas are available');
    expect(
      rolloutWaiting(
        'Deployment',
        workload(
          { replicas: 3 },
          {
            observedGeneration: 2,
            conditions: [
              { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
            ],
          },
        ),
      ),
    ).toBe('exceeded its progress deadline');
    expect(
      rolloutWaiting(
        'Deployment',
        workload(
          { replicas: 3 },
          { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 },
        ),
      ),
    ).toBeUndefined();
  });

  it('StatefulSet: ready replicas, partitions and revisions; DaemonSet: updated and available pods', () => {
    expect(
      rolloutWaiting(
        'StatefulSet',
        workload({ replicas: 3 }, { observedGeneration: 2, readyReplicas: 1 }),
      ),
    ).toBe('waiting for 2 pods to be ready');
    expect(
      rolloutWaiting(
        'StatefulSet',
        workload(
          { replicas: 3 },
          {
            observedGeneration: 2,
            readyReplicas: 3,
            currentRevision: 'a',
            updateRevision: 'b',
            updatedReplicas: 1,
          },
        ),
      ),
    ).toBe('waiting for rolling update to complete 1 pods at revision b');
    expect(
      rolloutWaiting(
        'StatefulSet',
        workload({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, { observedGeneration: 2 }),
      ),
    ).toMatch(/only available for RollingUpdate/);
    expect(
      rolloutWaiting(
        'DaemonSet',
        workload(
          {},
          {
            observedGeneration: 2,
            desiredNumberScheduled: 2,
            updatedNumberScheduled: 2,
            numberAvailable: 1,
          },
        ),
      ),
    ).toBe('1 of 2 updated pods are available');
    expect(() => rolloutWaiting('Job', workload({}, { observedGeneration: 2 }))).toThrow(/not Job/);
  });
});

describe('field selectors', () => {
  it('matches equalities and inequalities on any path, a missing field as empty', () => {
    const pod = { metadata: { name: 'a' }, status: { phase: 'Running' }, spec: {} };
    expect(matchesFields(pod, parseFieldSelector('status.phase=Running,metadata.name!=b'))).toBe(
      true,
    );
    expect(matchesFields(pod, parseFieldSelector('status.phase==Pending'))).toBe(false);
    expect(matchesFields(pod, parseFieldSelector('spec.nodeName='))).toBe(true);
    expect(() => parseFieldSelector('status.phase')).toThrow(SelectorError);
  });
});

describe('answers and subjects', () => {
  it('normalises answers: trimmed, whitespace collapsed, case-insensitive unless asked', () => {
    expect(normaliseAnswer('  Node01 \n', false)).toBe('node01');
    expect(normaliseAnswer(' a   b\tc ', true)).toBe('a b c');
  });

  it('gives a ServiceAccount its groups, and splits resource.group as kubectl does', () => {
    expect(subjectOf({ serviceAccount: 'ns/sa' })).toEqual({
      user: 'system:serviceaccount:ns:sa',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    });
    expect(subjectOf({ user: 'jane', groups: ['dev'] })).toEqual({
      user: 'jane',
      groups: ['dev', 'system:authenticated'],
    });
    expect(splitResource('deployments.apps')).toEqual({ resource: 'deployments', group: 'apps' });
    expect(splitResource('pods')).toEqual({ resource: 'pods', group: '' });
    expect(splitResource('widgets', 'example.com')).toEqual({
      resource: 'widgets',
      group: 'example.com',
    });
  });
});

describe('scoreRun', () => {
  const task = (domain: string, awarded: number, possible: number) => ({
    sessionQuestionId: `${domain}-${awarded}`,
    questionId: 'q',
    domain,
    pointsAwarded: awarded,
    pointsPossible: possible,
  });

  it('sums per domain and in total, and passes at the mark', () => {
    const score = scoreRun(
      [task('storage', 2, 4), task('storage', 4, 4), task('troubleshooting', 0, 4)],
      {
        complete: true,
        passPercent: 50,
        timeUsedSeconds: 61,
      },
    );
    expect(score.domains).toEqual([
      { domain: 'storage', pointsAwarded: 6, pointsPossible: 8, percent: 75 },
      { domain: 'troubleshooting', pointsAwarded: 0, pointsPossible: 4, percent: 0 },
    ]);
    expect(score).toMatchObject({
      pointsAwarded: 6,
      pointsPossible: 12,
      percent: 50,
      passed: true,
    });
    expect(
      scoreRun([task('storage', 1, 3)], { complete: true, passPercent: 34, timeUsedSeconds: null })
        .passed,
    ).toBe(false);
  });

  it('decides no pass or fail while checks are undecided', () => {
    expect(
      scoreRun([task('storage', 4, 4)], { complete: false, passPercent: 66, timeUsedSeconds: 1 })
        .passed,
    ).toBeNull();
  });
});
