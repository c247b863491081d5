import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError, ErrorCode } from '../errors/domain-error.js';

/** `@Param('id', uuidParam)`: a malformed id is a 400 naming the field, never a 500. */
export const uuidParam = new ParseUUIDPipe({
  exceptionFactory: () =>
    new DomainError(ErrorCode.VALIDATION_FAILED, 'id must be a UUID', {
      problems: [{ path: 'id', message: 'must be a UUID' }],
    }),
});
