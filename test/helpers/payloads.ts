/** The report bodies the integration guide documents, as real clients send them. */
export function runtimeReport(projectId: string, overrides: Record<string, unknown> = {}) {
  return {
    project_id: projectId,
    environment: 'production',
    level: 'ERROR',
    error: {
      type: 'ValueError',
      message: "invalid literal for int() with base 10: 'abc'",
      file_path: 'apps/users/views.py',
      line_number: 42,
      stack_trace: [
        'Traceback (most recent call last):',
        '  File "apps/users/views.py", line 42, in get_user',
        "ValueError: invalid literal for int() with base 10: 'abc'",
      ],
    },
    context: { url: '/api/users/123', method: 'GET', user_id: 'u_12345' },
    ...overrides,
  };
}

export function cicdReport(projectId: string, overrides: Record<string, unknown> = {}) {
  return {
    project_id: projectId,
    environment: 'main',
    level: 'ERROR',
    source: 'cicd',
    commit_hash: 'abc1234def5678',
    repo_url: 'https://gitea.airlabs.art/zyc/rtc_backend.git',
    error: {
      type: 'CICDFailure',
      message: '[build] Build and Deploy failed on branch main',
      stack_trace: ['...last 50 lines of the build log...'],
    },
    context: {
      job_name: 'build-and-deploy',
      step_name: 'build',
      workflow: 'Build and Deploy',
      run_id: '24',
      branch: 'main',
      actor: 'zyc',
      commit: 'abc1234def5678',
      run_url: 'https://gitea.airlabs.art/zyc/rtc_backend/actions/runs/24',
    },
    ...overrides,
  };
}

export function deploymentReport(projectId: string, overrides: Record<string, unknown> = {}) {
  return {
    project_id: projectId,
    environment: 'production',
    level: 'CRITICAL',
    source: 'deployment',
    error: {
      type: 'CrashLoopBackOff',
      message:
        'CrashLoopBackOff: back-off restarting failed container (pod: rtc-backend-xxx, container: api)',
      file_path: null,
      line_number: null,
      stack_trace: ['...container log before the crash (last 50 lines)...'],
    },
    context: {
      namespace: 'default',
      pod_name: 'rtc-backend-xxx-yyy',
      container_name: 'api',
      deployment_name: 'rtc-backend',
      restart_count: 5,
      node_name: 'node-1',
    },
    ...overrides,
  };
}

export function registrationReport(projectId: string) {
  return {
    project_id: projectId,
    environment: 'production',
    level: 'WARNING',
    error: {
      type: 'ProjectInit',
      message: 'Project registered to Log Center',
      stack_trace: ['Project initialization'],
    },
    repo_url: `https://gitea.airlabs.art/team/${projectId}.git`,
  };
}
