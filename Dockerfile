# ngate in a container: `docker build -t ngate .` then
#   docker run --rm -p 8080:8080 ngate                         # the bundled configs/container.yaml
#   docker run --rm -p 10080:10080 -v $PWD/my.yaml:/etc/ngate/config.yaml ngate start --config /etc/ngate/config.yaml --workers auto
# Debian 12 (glibc 2.36) + Node 20: the uWebSockets.js build that loads natively here is @trufflesuite/uws-js-unofficial.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY test test
COPY loadtest loadtest
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src dist/src
COPY bin bin
COPY configs configs
# Objects applied through the admin API are kept here (running_objects.yaml); mount a volume to keep them.
RUN mkdir -p data && chown node:node data
USER node
EXPOSE 8080
# The admin API stays on the container's loopback unless you bind it elsewhere with --admin-token.
ENTRYPOINT ["node", "bin/ngate.js"]
CMD ["start", "--config", "configs/container.yaml", "--workers", "auto"]
