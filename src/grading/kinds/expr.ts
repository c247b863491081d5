import type { ExprCheck } from '../check.schema.js';
import { evaluateRule } from '../cel.js';
import { celBindings, celFailure } from './cel-bindings.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

/** A CEL rule over named objects and the question's variables (ValidatingAdmissionPolicy-shaped). */
export async function evaluateExpr(check: ExprCheck, env: CheckEnv): Promise<Verdict> {
  const { bindings, missing } = await celBindings(check.objects, env);
  try {
    const outcome = evaluateRule(
      {
        expression: check.expression,
        message: check.message,
        messageExpression: check.messageExpression,
        variables: check.variables,
      },
      bindings,
    );
    return outcome.passed ? pass() : fail(outcome.message ?? `failed: ${check.expression}`);
  } catch (error) {
    return celFailure(error, missing);
  }
}
