# Sourced by `make unit` and `make bench`: point the tests at the local PostgreSQL when it
# answers, unless the caller already chose a database.
if [ -z "${SIGNPOST_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export SIGNPOST_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
fi
