import { lintCheck } from './check-lint.js';

const resource = (apiVersion: string, resourceKind: string) => ({
  kind: 'resource',
  id: 'r',
  description: 'd',
  apiVersion,
  resourceKind,
  name: 'x',
  match: {},
});

describe('lint of a check’s apiVersion', () => {
  it('takes every version a kind is served as (HorizontalPodAutoscaler as autoscaling/v1 and v2)', () => {
    expect(lintCheck(resource('autoscaling/v1', 'HorizontalPodAutoscaler'))).toEqual([]);
    expect(lintCheck(resource('autoscaling/v2', 'HorizontalPodAutoscaler'))).toEqual([]);
  });

  it('names the versions a kind is served as when the check uses another', () => {
    expect(lintCheck(resource('autoscaling/v2beta2', 'HorizontalPodAutoscaler'))).toEqual([
      {
        path: ['apiVersion'],
        rule: 'kind',
        message:
          'HorizontalPodAutoscaler is served as autoscaling/v2 or autoscaling/v1, not autoscaling/v2beta2',
      },
    ]);
    expect(lintCheck(resource('v1', 'Deployment'))[0].message).toBe(
      'Deployment is served as apps/v1, not v1',
    );
  });
});
