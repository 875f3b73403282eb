// CRIU's RPC messages (schemas/criu-rpc.proto) to and from bytes, with protobufjs. The bundle
// puts this module, protobufjs and the schema in a file of their own, loaded on first use
// (scripts/esbuild-lazy-criu.mjs): only checkpoint and restore pay for them.
import protobuf from 'protobufjs/light.js';
import { type CriuReq, type CriuResp, RPC_DESCRIPTOR } from './generated/rpc.js';

let types: { req: protobuf.Type; resp: protobuf.Type } | undefined;

function messages(): { req: protobuf.Type; resp: protobuf.Type } {
  if (!types) {
    const root = protobuf.Root.fromJSON(RPC_DESCRIPTOR as protobuf.INamespace);
    types = { req: root.lookupType('criu_req'), resp: root.lookupType('criu_resp') };
  }
  return types;
}

export function encodeRequest(req: CriuReq): Uint8Array {
  const { req: type } = messages();
  // fromObject takes enum values by name, as the generated types spell them.
  return type.encode(type.fromObject(req)).finish();
}

export function decodeResponse(data: Uint8Array): CriuResp {
  const { resp: type } = messages();
  return type.toObject(type.decode(data), { enums: String }) as CriuResp;
}
