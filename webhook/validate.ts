/**
 * The CRD validating admission endpoint as a fastify plugin: POST /validate takes an
 * admission.k8s.io/v1 AdmissionReview and runs the full validators (crds/validate.ts), so every
 * rule, including those the CRD schema cannot express, is enforced at `kubectl apply`.
 * The webhook server (webhook/server.ts) registers it next to /inject.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { errorEntry } from '../common/errors.ts';
import { MalformedReview, reviewObject } from './validate-review.ts';
import { createValidationMetrics } from './validate-metrics.ts';

export interface ValidatePluginOptions {
  /** Route path; default /validate. */
  path?: string;
  /** Where to count reviews (meshlet_crd_validation_total, meshlet_crd_validation_errors_total); none when absent. */
  registry?: Registry;
}

export const validatePlugin: FastifyPluginAsync<ValidatePluginOptions> = async (app, opts) => {
  const metrics = opts.registry === undefined ? undefined : createValidationMetrics(opts.registry);
  app.post(opts.path ?? '/validate', async (req, reply) => {
    try {
      const { body, kind, errorCodes } = reviewObject(req.body);
      const r = body.response;
      metrics?.review(kind, !r.allowed ? 'denied' : r.warnings !== undefined ? 'allowed_with_warnings' : 'allowed', errorCodes);
      if (!r.allowed) req.log.debug({ kind, codes: errorCodes }, 'denied an invalid object');
      return body;
    } catch (err) {
      if (!(err instanceof MalformedReview)) throw err;
      metrics?.review('unknown', 'malformed');
      const entry = errorEntry('MESHLET_CRD_REVIEW_MALFORMED');
      req.log.debug({ code: entry.code, detail: err.message }, 'rejected malformed AdmissionReview');
      return reply.code(400).send({ code: entry.code, message: `${entry.message}: ${err.message}`, hint: entry.hint });
    }
  });
};

export default validatePlugin;
