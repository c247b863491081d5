import type { Job } from 'bullmq';

/** The BullMQ queues. Each has its own worker pool so slow grading never delays expiry. */
export const QueueName = {
  PROVISIONING: 'provisioning',
  SESSIONS: 'sessions',
  GRADING: 'grading',
  TEARDOWN: 'teardown',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
export const ALL_QUEUES = Object.values(QueueName);

export const JobName = {
  PROVISION_SESSION: 'provision-session',
  EXPIRE_SESSION: 'expire-session',
  REVOKE_ACCESS: 'revoke-access',
  GRADE_SESSION: 'grade-session',
  TEARDOWN_SESSION: 'teardown-session',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];
export const ALL_JOBS = Object.values(JobName);

/** The payload of every job, by name: the one place job data is typed. */
export interface JobPayloads {
  [JobName.PROVISION_SESSION]: { sessionId: string };
  /** `deadline` (epoch ms) is part of the job id: a changed deadline is a new job. */
  [JobName.EXPIRE_SESSION]: { sessionId: string; deadline: number };
  [JobName.REVOKE_ACCESS]: { sessionId: string };
  [JobName.GRADE_SESSION]: { sessionId: string };
  [JobName.TEARDOWN_SESSION]: { sessionId: string };
}

export type JobOf<N extends JobName> = Job<JobPayloads[N], void, N>;

export const QUEUE_OF: Record<JobName, QueueName> = {
  [JobName.PROVISION_SESSION]: QueueName.PROVISIONING,
  [JobName.EXPIRE_SESSION]: QueueName.SESSIONS,
  [JobName.REVOKE_ACCESS]: QueueName.SESSIONS,
  [JobName.GRADE_SESSION]: QueueName.GRADING,
  [JobName.TEARDOWN_SESSION]: QueueName.TEARDOWN,
};

/**
 * Deterministic job ids: enqueueing the same work twice (API and reconciler,
 * or two reconcilers) adds it once.
 */
export function jobIdOf<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  if (name === JobName.EXPIRE_SESSION) {
    const { sessionId, deadline } = payload as JobPayloads[typeof JobName.EXPIRE_SESSION];
    return `${name}.${sessionId}.${deadline}`;
  }
  return `${name}.${payload.sessionId}`;
}
