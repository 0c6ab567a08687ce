# Regenwacht: build with tsc (and the embedded database's template, dist/pglite-template), run with node as the
# unprivileged `node` user. `npm ci` runs with --ignore-scripts: its `prepare` (the build) runs below, once the
# sources are there.
# test/e2e/image.test.ts lays out this final stage without Docker and starts it: keep the two in step.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY migrations migrations
COPY services services
COPY alerts alerts
COPY firmware-sim firmware-sim
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data BIND_HOST=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at run time from the package root (services/package-root.ts): /app/migrations, the console's files.
COPY migrations migrations
COPY services/web/public services/web/public
# The application files stay root's and read-only; the server writes only to /data (embedded database,
# broker state, admin token).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080 1883
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/services/main.js"]
