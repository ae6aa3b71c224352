/**
 * The CRD validating admission endpoint as a fastify plugin: POST /validate takes an
 * admission.k8s.io/v1 AdmissionReview and runs the full validators (crds/validate.ts), so every
 * rule, including those the CRD schema cannot express, is enforced at `kubectl apply`.
 * The webhook server (webhook/server.ts) registers it next to /inject.
 */
import type { FastifyPluginAsync } from 'fastify';
import { errorEntry } from '../common/errors.ts';
import { MalformedReview, reviewObject } from './validate-review.ts';

export interface ValidatePluginOptions {
  /** Route path; default /validate. */
  path?: string;
}

export const validatePlugin: FastifyPluginAsync<ValidatePluginOptions> = async (app, opts) => {
  app.post(opts.path ?? '/validate', async (req, reply) => {
    try {
      return reviewObject(req.body);
    } catch (err) {
      if (!(err instanceof MalformedReview)) throw err;
      const entry = errorEntry('MESHLET_CRD_REVIEW_MALFORMED');
      req.log.debug({ code: entry.code, detail: err.message }, 'rejected malformed AdmissionReview');
      return reply.code(400).send({ code: entry.code, message: `${entry.message}: ${err.message}`, hint: entry.hint });
    }
  });
};

export default validatePlugin;
