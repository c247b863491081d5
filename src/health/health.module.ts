import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [ClusterModule], controllers: [HealthController] })
export class HealthModule {}
