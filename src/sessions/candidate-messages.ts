/**
 * What a candidate reads in place of an internal failure text. The raw text
 * (API server errors, cluster addresses, object names) is for trainers; every
 * view a candidate can open — the session, its live state, its report — uses
 * these words instead.
 */

/** What a candidate reads for a task whose setup failed. */
export const CANDIDATE_SETUP_FAILURE = 'The setup of this task failed; a trainer can see why.';
