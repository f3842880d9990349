import { DatasetPage } from './pages/DatasetPage.js'
import { DatasetsPage } from './pages/DatasetsPage.js'
import { EnrichPage } from './pages/EnrichPage.js'
import { TasksPage } from './pages/TasksPage.js'
import { href, useRoute, type Route } from './route.js'

/** The frame (title, navigation) and the page the URL names. */
export function App () {
  const route = useRoute()
  const section = route.page === 'tasks' ? 'tasks' : 'datasets'
  return (
    <div className='layout'>
      <header>
        <span className='brand'>Visual Layer</span>
        <nav aria-label='Sections'>
          <a href={href({ page: 'datasets' })} aria-current={section === 'datasets' ? 'page' : undefined}>Datasets</a>
          <a href={href({ page: 'tasks' })} aria-current={section === 'tasks' ? 'page' : undefined}>Tasks</a>
        </nav>
      </header>
      <main>{page(route)}</main>
    </div>
  )
}

function page (route: Route) {
  switch (route.page) {
    case 'datasets': return <DatasetsPage />
    case 'dataset': return <DatasetPage key={route.id} id={route.id} />
    case 'enrich': return <EnrichPage key={route.id} id={route.id} />
    case 'tasks': return <TasksPage />
  }
}
