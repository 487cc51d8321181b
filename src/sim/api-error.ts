/** An error answered in vLLM's shape: {error: {message, type, param, code}}. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.param = param;
    this.type = status === 404 ? "NotFoundError" : status === 405 ? "MethodNotAllowed" : status >= 500 ? "InternalServerError" : "BadRequestError";
  }
  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.status } });
  }
}
