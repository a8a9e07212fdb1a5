/**
 * The enums of the Liftbridge API that the whole server speaks (docs/protocol.md "Enums"): one
 * definition, with the proto's member names and numbers, shared by the domain, the application, the
 * codecs and the client. Decoded values are open (a number outside the members can arrive):
 * requests are validated where they enter.
 */

export enum StartPosition {
  NEW_ONLY = 0,
  OFFSET = 1,
  EARLIEST = 2,
  LATEST = 3,
  TIMESTAMP = 4,
}

export enum StopPosition {
  STOP_ON_CANCEL = 0,
  STOP_OFFSET = 1,
  STOP_LATEST = 2,
  STOP_TIMESTAMP = 3,
}

export enum AckPolicy {
  LEADER = 0,
  ALL = 1,
  NONE = 2,
}

/** `Ack.Error`. */
export enum AckError {
  OK = 0,
  UNKNOWN = 1,
  INCORRECT_OFFSET = 2,
  TOO_LARGE = 3,
  ENCRYPTION = 4,
}
