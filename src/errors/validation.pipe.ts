import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { type FieldProblem, ValidationFailedError } from './domain-error.js';

/** Flattens class-validator's tree into dotted field paths (`answers[2].text`). */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      path,
      // class-validator starts messages with the property name; the path says it already.
      message: message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message,
    }));
    return [...own, ...fieldProblems(error.children ?? [], path)];
  });
}

/** Request bodies, params and queries: unknown fields rejected, types coerced, 400 with paths. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new ValidationFailedError(fieldProblems(errors)),
  });
}
