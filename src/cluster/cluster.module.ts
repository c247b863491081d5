import { Module } from '@nestjs/common';
import { ClusterService } from './cluster.service.js';

/** The one adapter to Kubernetes. */
@Module({ providers: [ClusterService], exports: [ClusterService] })
export class ClusterModule {}
