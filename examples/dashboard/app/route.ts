import { useSyncExternalStore } from 'react'

/*
 * The page shown, from the URL's hash (#/datasets, #/datasets/<id>, #/datasets/<id>/enrich, #/tasks):
 * any static server can serve the bundle, and a reload or a shared link opens the same page.
 */

export type Route =
  | { page: 'datasets' }
  | { page: 'dataset', id: string }
  | { page: 'enrich', id: string }
  | { page: 'tasks' }

export function parseRoute (hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent)
  if (parts[0] === 'tasks') return { page: 'tasks' }
  if (parts[0] === 'datasets' && parts[1] !== undefined) {
    return parts[2] === 'enrich' ? { page: 'enrich', id: parts[1] } : { page: 'dataset', id: parts[1] }
  }
  return { page: 'datasets' }
}

export function href (route: Route): string {
  switch (route.page) {
    case 'datasets': return '#/datasets'
    case 'tasks': return '#/tasks'
    case 'dataset': return `#/datasets/${encodeURIComponent(route.id)}`
    case 'enrich': return `#/datasets/${encodeURIComponent(route.id)}/enrich`
  }
}

export function navigate (route: Route): void {
  window.location.hash = href(route)
}

function subscribe (onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange)
  return () => { window.removeEventListener('hashchange', onChange) }
}

export function useRoute (): Route {
  return parseRoute(useSyncExternalStore(subscribe, () => window.location.hash))
}
