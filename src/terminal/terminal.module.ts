import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { LocalTerminalHost } from './local/local-terminal-host.js';
import { RecordingsModule } from './recordings.module.js';
import { TERMINAL_HOST } from './terminal-host.js';
import { TerminalController } from './terminal.controller.js';
import { TerminalGateway } from './terminal.gateway.js';
import { TerminalService } from './terminal.service.js';

/**
 * The candidate's browser terminal: the WebSocket gateway, one shell per
 * session (replay, grace, ends), recordings, and the host that runs shells
 * (TERMINAL_HOST: today jails on this machine). HTTP processes only.
 */
@Module({
  imports: [SessionsModule, RecordingsModule],
  controllers: [TerminalController],
  providers: [
    {
      provide: TERMINAL_HOST,
      inject: [APP_CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, logger: Logger) =>
        new LocalTerminalHost(config.terminal, logger.child({ context: 'TerminalHost' })),
    },
    TerminalService,
    TerminalGateway,
  ],
})
export class TerminalModule {}
