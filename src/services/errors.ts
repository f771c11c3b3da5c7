/** Domain errors of the service layer; resolvers and the CLI translate them. */

export class UnknownCheckpoint extends Error {
  constructor(readonly checkpointId: string, readonly role: string) {
    super(`${role} checkpoint '${checkpointId}' is not registered (see the 'checkpoints' query or registerCheckpoint)`);
    this.name = 'UnknownCheckpoint';
  }
}

export class InvalidArgument extends Error {
  constructor(readonly argument: string, message: string) {
    super(message);
    this.name = 'InvalidArgument';
  }
}
