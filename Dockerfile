# The breach binary: worker, CLI and Slack ingress in one image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/breach ./cmd/breach

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/breach --create-home breach
COPY --from=build /out/breach /usr/local/bin/breach
USER breach
ENV BREACH_HOME=/var/lib/breach
WORKDIR /var/lib/breach
ENTRYPOINT ["/usr/local/bin/breach"]
CMD ["worker"]
