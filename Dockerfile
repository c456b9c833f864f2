# The control-plane image (weft controller). Used by the kind path and real clusters; CI
# has no Docker engine, so this file is not built there.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/gen-protos.ts scripts/
RUN npm ci --omit=dev --ignore-scripts && npm install --no-save @bufbuild/buf@1.75.0 @bufbuild/protoc-gen-es@2.17.0 @grpc/grpc-js-xds@1.14.1 \
 && node scripts/gen-protos.ts && npm prune --omit=dev
COPY src src
COPY xds xds
COPY webhook webhook
USER 65532:65532
ENTRYPOINT ["node", "src/runtime/cli/weft.ts"]
CMD ["controller"]
