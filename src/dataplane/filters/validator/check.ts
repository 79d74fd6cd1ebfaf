import type { ErrorCode } from '../../../shared/errors';
import type { RequestContext } from '../../context';

/** Why a request failed one validator check. */
export interface CheckFailure {
  readonly code: ErrorCode;
  readonly detail: string;
  /** `WWW-Authenticate` value for 401 answers. */
  readonly challenge?: string;
}

/** One validator rule; null means the request passes it. */
export interface RequestCheck {
  check(ctx: RequestContext): CheckFailure | null | Promise<CheckFailure | null>;
  /** Releases what the check holds (an offload pool lease) when its generation is gone. */
  close?(): void;
}
