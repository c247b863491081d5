import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import type { LoadedExam, LoadedQuestion } from '../question-bank/bank.loader.js';
import { BankService } from '../question-bank/bank.service.js';
import { whyQuestionDoesNotFit } from '../question-bank/environments.js';
import { DOMAINS, type Domain } from '../question-bank/question.schema.js';
import { SeededRandom } from '../question-bank/variables.js';

/** Exam definitions from the bank, and which questions a session gets. */
@Injectable()
export class ExamsService {
  constructor(private readonly bank: BankService) {}

  list(): LoadedExam[] {
    return this.bank.exams().sort((a, b) => a.spec.id.localeCompare(b.spec.id));
  }

  get(id: string): LoadedExam {
    const exam = this.bank.exam(id);
    if (!exam) throw new DomainError(ErrorCode.EXAM_NOT_FOUND, `No exam "${id}"`, { examId: id });
    return exam;
  }

  /**
   * The questions of one session: the exam's list in order, or a draw by
   * domain weights (largest remainder, then a seeded shuffle within domains)
   * among the questions that fit the exam's environment.
   */
  selectQuestions(exam: LoadedExam, seed: string): LoadedQuestion[] {
    const { spec } = exam;
    if (spec.questions) return spec.questions.map((id) => this.bank.question(id)!);
    const draw = spec.draw!;
    const random = new SeededRandom(seed, `exam/${spec.id}`);
    const pools = new Map<Domain, LoadedQuestion[]>();
    for (const question of this.bank
      .questions()
      .filter((q) => !whyQuestionDoesNotFit(q.spec, spec))
      .sort((a, b) => a.spec.id.localeCompare(b.spec.id))) {
      const pool = pools.get(question.spec.domain) ?? [];
      pool.push(question);
      pools.set(question.spec.domain, pool);
    }
    for (const pool of pools.values()) shuffle(pool, random);
    const quotas = allocate(draw.count, draw.weights, pools);
    const chosen: LoadedQuestion[] = [];
    for (const domain of Object.keys(DOMAINS) as Domain[])
      chosen.push(...(pools.get(domain) ?? []).slice(0, quotas[domain] ?? 0));
    return chosen;
  }
}

function shuffle<T>(items: T[], random: SeededRandom): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/**
 * Splits `count` across domains in proportion to their weights, never giving a
 * domain more questions than it has (the rest goes to domains with spare ones).
 */
export function allocate(
  count: number,
  weights: Partial<Record<Domain, number>>,
  pools: Map<Domain, unknown[]>,
): Partial<Record<Domain, number>> {
  const quotas: Partial<Record<Domain, number>> = {};
  let remaining = count;
  let open = (Object.keys(weights) as Domain[]).filter(
    (d) => (weights[d] ?? 0) > 0 && (pools.get(d)?.length ?? 0) > 0,
  );
  while (remaining > 0 && open.length) {
    const total = open.reduce((sum, d) => sum + weights[d]!, 0);
    const shares = open.map((d) => ({ d, exact: (remaining * weights[d]!) / total }));
    let given = 0;
    for (const share of shares) {
      const room = pools.get(share.d)!.length - (quotas[share.d] ?? 0);
      const take = Math.min(Math.floor(share.exact), room);
      quotas[share.d] = (quotas[share.d] ?? 0) + take;
      given += take;
    }
    // Largest remainders get the leftovers, one each, while they have room.
    for (const share of shares.sort((a, b) => (b.exact % 1) - (a.exact % 1))) {
      if (given >= remaining) break;
      if ((quotas[share.d] ?? 0) < pools.get(share.d)!.length) {
        quotas[share.d] = (quotas[share.d] ?? 0) + 1;
        given++;
      }
    }
    if (given === 0) break;
    remaining -= given;
    open = open.filter((d) => (quotas[d] ?? 0) < pools.get(d)!.length);
  }
  return quotas;
}
