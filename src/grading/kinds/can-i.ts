import type { CanICheck } from '../check.schema.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

/** The SubjectAccessReview identity of `as`: a ServiceAccount brings its groups along. */
export function subjectOf(as: CanICheck['as']): { user: string; groups: string[] } {
  if (as.serviceAccount) {
    const [namespace, name] = as.serviceAccount.split('/');
    return {
      user: `system:serviceaccount:${namespace}:${name}`,
      groups: [
        'system:serviceaccounts',
        `system:serviceaccounts:${namespace}`,
        'system:authenticated',
        ...(as.groups ?? []),
      ],
    };
  }
  return { user: as.user!, groups: [...(as.groups ?? []), 'system:authenticated'] };
}

/** `deployments.apps` → resource deployments in group apps (as kubectl auth can-i reads it). */
export function splitResource(
  resource: string,
  group?: string,
): { resource: string; group: string } {
  if (group !== undefined) return { resource, group };
  const dot = resource.indexOf('.');
  return dot < 0
    ? { resource, group: '' }
    : { resource: resource.slice(0, dot), group: resource.slice(dot + 1) };
}

/** A SubjectAccessReview: would this subject be allowed, and is that what the task wants? */
export async function evaluateCanI(check: CanICheck, env: CheckEnv): Promise<Verdict> {
  const { user, groups } = subjectOf(check.as);
  const { resource, group } = splitResource(check.resource, check.group);
  const review = await env.reads.review({
    user,
    groups,
    verb: check.verb,
    resource,
    group,
    subresource: check.subresource,
    namespace: check.namespace,
    name: check.name,
  });
  const wanted = check.expect === 'allowed';
  if (review.allowed === wanted) return pass();
  const target = `${check.resource}${check.subresource ? `/${check.subresource}` : ''}${check.name ? ` ${check.name}` : ''}${check.namespace ? ` in ${check.namespace}` : ' cluster-wide'}`;
  return fail(
    wanted
      ? `${user} cannot ${check.verb} ${target}, but it should be allowed`
      : `${user} can ${check.verb} ${target}, but least privilege was required${review.reason ? ` (${review.reason})` : ''}`,
  );
}
