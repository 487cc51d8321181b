import { describe, expect, it } from "vitest";
import { redactEnv, redactText } from "../../src/run/redact.ts";

describe("secret redaction", () => {
  it("hides values of secret-named variables and keeps token counts", () => {
    expect(redactEnv({ HF_TOKEN: "hf_abc", OPENAI_API_KEY: "sk-1", MIN_INPUT_TOKENS: "10", MAX_TOKENS: "5", DB_PASSWORD: "x", URL: "http://h" })).toEqual({
      HF_TOKEN: "<redacted>",
      OPENAI_API_KEY: "<redacted>",
      MIN_INPUT_TOKENS: "10",
      MAX_TOKENS: "5",
      DB_PASSWORD: "<redacted>",
      URL: "http://h",
    });
  });

  it("removes secret values from text", () => {
    expect(redactText("auth: Bearer sk-verysecret1", { OPENAI_API_KEY: "sk-verysecret1" })).toBe("auth: Bearer <redacted>");
  });
});
