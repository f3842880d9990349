import type { GatewayProblem } from './client.js'

/**
 * The gateway's errors, shown beside what caused them (a field, a button, a list): its code, its
 * message as the gateway wrote it (they say what to do next), and the request id to quote.
 */
export function Problems ({ problems, id }: { problems: readonly GatewayProblem[], id?: string }) {
  if (problems.length === 0) return null
  return (
    <div className='problems' role='alert' id={id}>
      {problems.map((problem, index) => (
        <p key={index} className='problem'>
          <strong className='problem-code'>{problem.code}</strong>{' '}
          <span className='problem-message'>{problem.message}</span>
          {problem.requestId === undefined ? null : <small className='problem-request'> request {problem.requestId}</small>}
        </p>
      ))}
    </div>
  )
}

/** A dataset's or task's status, as a badge. */
export function Status ({ value }: { value: string }) {
  return <span className={`status status-${value.toLowerCase()}`}>{value}</span>
}
