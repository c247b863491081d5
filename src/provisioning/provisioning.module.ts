import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ProvisioningProcessor } from './provisioning.processor.js';

@Module({
  imports: [SessionsModule],
  providers: [ProvisioningProcessor],
  exports: [ProvisioningProcessor],
})
export class ProvisioningModule {}
