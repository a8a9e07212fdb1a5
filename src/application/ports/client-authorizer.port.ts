/**
 * Whether a client may perform an action on an object of the client API (docs/security.md
 * "Authorization"). The subject is the Common Name of the client's verified certificate; objects
 * and actions are the table of docs/security.md (e.g. stream `orders`, action `Publish`).
 */
export interface ClientAuthorizer {
  /**
   * The decision under the policy loaded now. Synchronous and cheap (the publish path asks it for
   * every PublishAsync request): decisions are cached per loaded policy.
   */
  isAllowed(subject: string, object: string, action: string): boolean;
  /**
   * Changes whenever another policy is loaded: a caller that keeps a decision keeps it with the
   * version it was made under and asks again when the version differs.
   */
  readonly policyVersion: number;
}
