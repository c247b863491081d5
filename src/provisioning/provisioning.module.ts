import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { ProvisioningService } from './provisioning.service.js';

@Module({
  imports: [ClusterModule],
  providers: [ProvisioningService],
  exports: [ProvisioningService],
})
export class ProvisioningModule {}
