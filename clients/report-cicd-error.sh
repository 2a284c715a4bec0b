#!/usr/bin/env bash
# Report a failed CI step to Log Center.
#
#   report-cicd-error.sh <project_id> <step_name> <message|logfile>
#
# A readable file as the third argument sends its last 100 lines as the stack trace;
# anything else is sent as the message. Context comes from the variables Gitea Actions
# and GitHub Actions both set (GITHUB_WORKFLOW, GITHUB_JOB, GITHUB_SHA, ...). The run is
# identified by GITHUB_RUN_NUMBER, the per-repository number Gitea's run pages use.
#
# Environment:
#   LOG_CENTER_URL          Log Center base URL (default http://127.0.0.1:8002)
#   LOG_CENTER_KEY          ingest key, for projects that set one
#   LOG_CENTER_ENVIRONMENT  overrides the environment (default: the branch name)
#   LOG_CENTER_ERROR_TYPE   overrides the error type inferred from the step name
#   LOG_CENTER_TIMEOUT      seconds before giving up (default 10)
#
# Reporting must never be the reason a pipeline fails, so every path exits 0 and the
# outcome is one line of output.

set -u

readonly TAIL_LINES=100
# The server refuses bodies over 256 KiB; a log of a few very long lines (minified
# bundles, progress bars) must still fit, so each line and the whole tail are capped.
readonly MAX_LINE_CHARS=2000
readonly MAX_LOG_BYTES=180000
readonly MAX_MESSAGE_CHARS=8000

say() { printf 'log-center: %s\n' "$*"; }
warn() { printf 'log-center: %s\n' "$*" >&2; }

infer_error_type() {
  local step
  step=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
  # Order matters: "Run npm test" is a test failure, "Build Docker image" a Docker one.
  if [[ $step =~ (^|[^a-z])(tests?|testing|pytest|jest|vitest|mocha|e2e|specs?)([^a-z]|$) ]]; then
    echo TestFailure
  elif [[ $step =~ lint|ruff|flake8|prettier|biome|(^|[^a-z])(fmt|format|formatting)([^a-z]|$) ]]; then
    echo LintError
  elif [[ $step =~ deploy|rollout|kubectl|helm|kustomize ]]; then
    echo DeployError
  elif [[ $step =~ docker|buildx|podman|kaniko|(^|[^a-z])(image|container)([^a-z]|$) ]]; then
    echo DockerBuildError
  elif [[ $step =~ npm|yarn|pnpm|node|vite|webpack|frontend ]]; then
    echo NpmBuildError
  else
    echo CICDFailure
  fi
}

# A path that does not exist (the failing step died before `tee` created it) is not a
# useful message; say that no log was captured instead.
looks_like_path() {
  [[ $1 != *[[:space:]]* && ($1 == /* || $1 == ./* || $1 == *.log || $1 == *.txt) ]]
}

build_payload() {
  local project_id=$1 step_name=$2 error_type=$3 message=$4 log_path=$5
  jq -n \
    --arg project_id "$project_id" \
    --arg step_name "$step_name" \
    --arg error_type "$error_type" \
    --arg message "$message" \
    --rawfile log <(tail -n "$TAIL_LINES" -- "$log_path" 2>/dev/null) \
    --argjson max_line "$MAX_LINE_CHARS" \
    --argjson max_log "$MAX_LOG_BYTES" \
    --argjson max_message "$MAX_MESSAGE_CHARS" '
    def var($name): $ENV[$name] // "";
    def or_else($fallback): if . == "" then $fallback else . end;
    def cap($n): if length > $n then .[:$n] + " …[truncated]" else . end;
    # Keep the newest lines whose JSON fits the budget: a CI log ends with the failure.
    def newest_within($budget):
      reduce (reverse[]) as $line ({kept: [], used: 0, full: false};
        ($line | tojson | utf8bytelength + 1) as $size
        | if .full then .
          elif .used + $size > $budget then .full = true
          else .kept += [$line] | .used += $size
          end)
      | .kept | reverse;

    (var("GITHUB_SERVER_URL") | rtrimstr("/")) as $server
    | var("GITHUB_REPOSITORY") as $repository
    | var("GITHUB_RUN_NUMBER") as $run_number
    | ($server != "" and $repository != "") as $has_repo
    | {
        project_id: $project_id,
        environment: (var("LOG_CENTER_ENVIRONMENT") | or_else(var("GITHUB_REF_NAME")) | or_else("ci") | .[:64]),
        level: "ERROR",
        source: "cicd",
        error: {
          type: $error_type,
          message: ($message | cap($max_message)),
          stack_trace: (if $log == "" then $message | cap($max_message) | split("\n")
            else $log | rtrimstr("\n") | split("\n") | map(rtrimstr("\r") | cap($max_line)) | newest_within($max_log)
            end)
        },
        context: ({
          job_name: var("GITHUB_JOB"),
          step_name: $step_name,
          workflow: var("GITHUB_WORKFLOW"),
          # The run number, not GITHUB_RUN_ID: the number the Gitea UI shows.
          run_id: $run_number,
          branch: var("GITHUB_REF_NAME"),
          actor: var("GITHUB_ACTOR"),
          commit: var("GITHUB_SHA"),
          repository: $repository,
          # Gitea links a run by its number; github.com by its id.
          run_url: (if $server == "https://github.com" and var("GITHUB_RUN_ID") != "" then var("GITHUB_RUN_ID") else $run_number end
            | if $has_repo and . != "" then "\($server)/\($repository)/actions/runs/\(.)" else "" end)
        } | with_entries(select(.value != "")))
      }
    + (if var("GITHUB_SHA") != "" then {commit_hash: var("GITHUB_SHA")} else {} end)
    + (if $has_repo then {repo_url: "\($server)/\($repository).git"} else {} end)
  '
}

describe_answer() {
  local status=$1 body=$2 summary
  if [[ $status == 2* ]]; then
    summary=$(jq -r '[.message, (.id | values | "id \(.)"), (.status | values | "status \(.)")] | map(select(. != null)) | join(", ")' \
      <<<"$body" 2>/dev/null)
    echo "${summary:-HTTP $status}"
  else
    summary=$(jq -r '.error | "\(.code): \(.message)"
      + ([.details[]? | "\(.path) \(.message)"] | if length > 0 then " (\(join("; ")))" else "" end)' \
      <<<"$body" 2>/dev/null)
    echo "HTTP $status${summary:+ $summary}"
  fi
}

main() {
  if (($# < 2)); then
    warn "usage: report-cicd-error.sh <project_id> <step_name> <message|logfile> (nothing reported)"
    return
  fi
  local tool
  for tool in curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      warn "$tool is not installed; failure of step '$2' not reported"
      return
    fi
  done

  local project_id=$1 step_name=$2 detail=${3:-}
  local base_url=${LOG_CENTER_URL:-http://127.0.0.1:8002}
  base_url=${base_url%/}
  local timeout=${LOG_CENTER_TIMEOUT:-10}
  [[ $timeout =~ ^[0-9]+([.][0-9]+)?$ ]] || timeout=10
  local error_type=${LOG_CENTER_ERROR_TYPE:-$(infer_error_type "$step_name")}
  local ref=${GITHUB_REF_NAME:-}

  local message log_path=/dev/null
  if [[ -n $detail && -f $detail && -r $detail ]]; then
    message="[$step_name] ${GITHUB_WORKFLOW:-CI} failed${ref:+ on branch $ref}"
    log_path=$detail
  elif [[ -n $detail ]] && looks_like_path "$detail"; then
    message="[$step_name] failed; no log captured at $detail"
  else
    message=${detail:-"[$step_name] ${GITHUB_WORKFLOW:-CI} failed${ref:+ on branch $ref}"}
  fi

  local payload
  if ! payload=$(build_payload "$project_id" "$step_name" "$error_type" "$message" "$log_path"); then
    warn "could not build the report for step '$step_name'; nothing sent"
    return
  fi

  local headers=(-H 'Content-Type: application/json')
  [[ -n ${LOG_CENTER_KEY:-} ]] && headers+=(-H "X-Log-Center-Key: $LOG_CENTER_KEY")

  local response curl_status
  response=$(curl --silent --max-time "$timeout" -X POST "${headers[@]}" \
    --data-binary @- -w '\n%{http_code}' "$base_url/api/v1/logs/report" <<<"$payload")
  curl_status=$?

  if ((curl_status != 0)); then
    local reason
    case $curl_status in
      6) reason="host not found" ;;
      7) reason="connection refused" ;;
      28) reason="no answer within ${timeout}s" ;;
      *) reason="curl exit status $curl_status" ;;
    esac
    warn "could not reach $base_url ($reason); $error_type in step '$step_name' not reported"
    return
  fi

  local status=${response##*$'\n'} body=${response%$'\n'*}
  if [[ $status == 2* ]]; then
    say "reported $error_type in step '$step_name' of $project_id: $(describe_answer "$status" "$body")"
  else
    warn "report of $error_type in step '$step_name' refused: $(describe_answer "$status" "$body")"
  fi
}

main "$@"
exit 0
