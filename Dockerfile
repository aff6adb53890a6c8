# medner worker image: Node 20, TypeScript run through tsx (no build step), CPU inference.
# Build: docker build -t medner .   Run: see docker-compose.yml (roles: ingest, inference).
FROM node:20-slim

ENV NODE_ENV=production \
    # onnxruntime-node's install script downloads CUDA libraries; CPU inference needs none.
    ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_onnxruntime_node_install=skip \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=9464

WORKDIR /app

# Dependencies first, for layer caching. tsx (a runtime dependency) runs the sources.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
COPY models ./models
COPY terminology ./terminology

USER node
EXPOSE 9464
ENTRYPOINT ["npx", "--no-install", "tsx", "src/cli/main.ts"]
CMD ["worker"]
