import { fileURLToPath } from 'node:url';
import type { AppConfig } from '../config/config.schema.js';
import { createRootLogger } from '../logging/logger.js';
import { BankService } from '../question-bank/bank.service.js';
import { sessionQuestionRows } from './issued-questions.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('sessionQuestionRows', () => {
  it('stores the reference solution, never the alternatives or the known mistakes', async () => {
    const bank = new BankService(
      { bank: { questionsDir: `${root}questions`, gradersDir: `${root}graders` } } as AppConfig,
      createRootLogger('silent'),
    );
    await bank.onModuleInit();
    const question = bank.question('rollout-undo')!;
    expect(question.spec.solutions.length).toBeGreaterThan(0);
    expect(question.spec.mistakes.length).toBeGreaterThan(0);

    const rendered = bank.render(question, 'seed', 'b0test');
    // bank:test gets them rendered with the candidate's variables...
    const ns = rendered.variables.ns as string;
    expect(ns).toBe('b0test-payments');
    expect(rendered.solutions[0].commands.join('\n')).toContain(`-n ${ns} `);
    expect(rendered.mistakes[0].commands.join('\n')).toContain(`-n ${ns} `);

    // ...and a session keeps only what candidates may see after the end.
    const [row] = sessionQuestionRows('session', [rendered]);
    expect(Object.keys(row)).not.toEqual(expect.arrayContaining(['solutions']));
    expect(Object.keys(row)).not.toEqual(expect.arrayContaining(['mistakes']));
    const stored = JSON.stringify(row);
    const reference = rendered.solution.commands.join('\n');
    const hidden = [...rendered.solutions, ...rendered.mistakes]
      .flatMap((entry) => entry.commands)
      .filter((command) => !reference.includes(command));
    expect(hidden.length).toBeGreaterThan(0);
    for (const command of hidden) expect(stored).not.toContain(JSON.stringify(command));
    expect(row.solution).toEqual(rendered.solution);
  });
});
