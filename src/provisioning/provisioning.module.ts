import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { EnvironmentsModule } from '../environments/environments.module.js';
import { ProvisioningService } from './provisioning.service.js';

@Module({
  imports: [ClusterModule, EnvironmentsModule],
  providers: [ProvisioningService],
  exports: [ProvisioningService],
})
export class ProvisioningModule {}
